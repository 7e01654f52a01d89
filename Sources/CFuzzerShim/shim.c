// The header carries everything; this file exists so SwiftPM builds the target.
#include "fuzzer_shim.h"
