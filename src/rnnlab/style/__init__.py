"""The look shared by figures and the report: figure style, Persian numbers, fonts, names."""
