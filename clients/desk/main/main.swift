import DeskClientKit
print("desk: not built yet")
