// The scanner's users reach physical memory through MPUSim, as before the module split.
@_exported import HostMemory
