"""tmsclient commands end to end against the in-process emulator (HTTPS, NTLM, ASP.NET WebForms pages)."""
