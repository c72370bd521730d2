#include "ec2.h"
