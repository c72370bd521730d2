/*
 * Unit tests for image's pure parts: train.image's values, the newest
 * PyTorch DLAMI among parameter names (versions compared numerically, other
 * operating systems skipped) and the root volume's room.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "services/image.h"
#include "util/util.h"

#define P "/aws/service/deeplearning/ami/x86_64/"

static void parse_names_and_ids(void **state)
{
	enum image_kind k;

	(void)state;
	assert_int_equal(image_parse(&k, NULL), 0);
	assert_int_equal(k, IMAGE_DEFAULT);
	assert_int_equal(image_parse(&k, "pytorch"), 0);
	assert_int_equal(k, IMAGE_PYTORCH);
	assert_int_equal(image_parse(&k, "base"), 0);
	assert_int_equal(k, IMAGE_BASE);
	assert_int_equal(image_parse(&k, "al2023"), 0);
	assert_int_equal(k, IMAGE_AL2023);
	assert_int_equal(image_parse(&k, "ami-0123456789abcdef0"), 0);
	assert_int_equal(k, IMAGE_ID);
	assert_int_equal(image_parse(&k, "ami-xyz"), -1);
	assert_int_equal(image_parse(&k, "PyTorch"), -1);
	assert_non_null(strstr(err_msg(), "train.image takes pytorch, base, al2023 or an AMI id"));
	err_clear();
}

static void newest_pytorch_by_number(void **state)
{
	struct strvec names = STRVEC_INIT;
	char *version = NULL;

	(void)state;
	strvec_push(&names, P "oss-nvidia-driver-gpu-pytorch-2.9-amazon-linux-2023/latest/ami-id");
	strvec_push(&names, P "oss-nvidia-driver-gpu-pytorch-2.10-amazon-linux-2023/latest/ami-id");
	strvec_push(&names, P "oss-nvidia-driver-gpu-pytorch-2.11-ubuntu-22.04/latest/ami-id");
	strvec_push(&names, P "base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id");
	strvec_push(&names,
		    P "oss-nvidia-driver-gpu-pytorch-2.8-amazon-linux-2023/latest/ami-name");
	strvec_push(&names, P "oss-nvidia-driver-gpu-pytorch-2.12-amazon-linux-2023/1.0/ami-id");
	strvec_push(&names, P "oss-nvidia-driver-gpu-pytorch-2.x-amazon-linux-2023/latest/ami-id");
	assert_int_equal(image_newest_pytorch(&version, &names), 1);
	assert_string_equal(version, "2.10");
	free(version);
	strvec_clear(&names);
	strvec_push(&names, P "base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id");
	assert_int_equal(image_newest_pytorch(&version, &names), -1);
	assert_null(version);
	strvec_clear(&names);
}

static void room_on_the_root_volume(void **state)
{
	struct image dlami = { .kind = IMAGE_PYTORCH, .dlami = 1 };
	struct image al2023 = { .kind = IMAGE_AL2023 };

	(void)state;
	assert_int_equal(image_volume_gib(&dlami, 75), 75 + IMAGE_ROOM_GPU_GIB);
	assert_int_equal(image_volume_gib(&al2023, 8), 8 + IMAGE_ROOM_GIB);
	assert_int_equal(image_volume_gib(&dlami, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_names_and_ids),
		cmocka_unit_test(newest_pytorch_by_number),
		cmocka_unit_test(room_on_the_root_volume),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
