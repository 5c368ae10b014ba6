"""The TMS web layer: session and login, the WebForms page model, the page profile, the form driver, the verifier."""
