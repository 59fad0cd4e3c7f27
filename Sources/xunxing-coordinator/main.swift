print("xunxing-coordinator")
