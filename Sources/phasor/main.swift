print("phasor")
