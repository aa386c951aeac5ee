"""Human and machine reports about a linked network: `inspect` tables and JSON, core graphs."""
