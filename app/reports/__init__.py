"""Reports as data (daily summary, dashboard) and label layouts; no Qt, no printing here."""
