"""Use cases: each function takes what it needs (session, clock, program, mailer) as arguments."""
