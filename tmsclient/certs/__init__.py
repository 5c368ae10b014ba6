"""The certificate toolkit: read, judge and write certificates, keys and PKCS#12 files."""
