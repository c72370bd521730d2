#include "ssm.h"
