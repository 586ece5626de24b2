"""Optional integrations with other libraries; each is imported only when used."""
