#include "remote-run.h"
