"""The sponsor portal (爱心单位): the market, its claims and its agreements."""
