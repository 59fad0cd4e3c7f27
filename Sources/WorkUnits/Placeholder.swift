// WorkUnits
