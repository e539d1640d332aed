"""Reports (报表): the monthly payout report, statements, certificates, running totals and the dashboard."""
