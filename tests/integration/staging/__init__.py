"""The staging stand-in (Apache + NTLM + Mono ASP.NET) and tmsclient's commands against it."""
