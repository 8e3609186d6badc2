"""Who may call and how much: sign-in (`auth/`), rate limits, the body-size cap, security headers,
log redaction and their settings, installed on the app with one call (`install.install_security`)."""
