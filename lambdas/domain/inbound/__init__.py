"""Mail that comes back to the RSVP address: the SES notification, the email, and whether to trust it.

Pure: no AWS, no I/O beyond the stream it is given. The record-reply function's adapters fetch the
raw email; everything it decides from it starts here.
"""
