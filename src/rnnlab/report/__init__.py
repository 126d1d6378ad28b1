"""The report engine: collect results -> render HTML -> WeasyPrint PDF, plus fonts and math."""
