// SwiftPM needs one source file per C target; the declaration in the header is what matters.
#include "CFuzzerDriver.h"
