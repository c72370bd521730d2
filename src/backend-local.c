#include "backend-local.h"
