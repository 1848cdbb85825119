"""Human-facing output: terminal tables and progress now, HTML reports later."""
