#include "pricing.h"
