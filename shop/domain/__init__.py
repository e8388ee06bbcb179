"""The program's rules as pure functions of data and a `now` passed in.

Nothing here imports a web framework, talks to a database or reads the clock.
"""
