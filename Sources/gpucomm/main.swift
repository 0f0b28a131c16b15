import GPUCommCLI

GPUCommMain.run()
