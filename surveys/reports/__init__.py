"""Reports: NPS and retention maths (pure modules) and the queries behind the pages."""
