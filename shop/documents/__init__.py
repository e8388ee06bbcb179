"""The shop's PDF documents: certificates, the wallet card, diagnostic reports and receipts.

Rendered from our own templates (shop/documents/templates) with WeasyPrint through
`sitegen.pdf.html_to_pdf`, whose URL fetcher serves our static files and refuses everything
else: a candidate's name is untrusted text and is only ever printed, never fetched.
"""
