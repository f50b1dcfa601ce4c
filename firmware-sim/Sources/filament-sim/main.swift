import FilamentSim
print("filament-sim: not built yet")
