/*
 * fuzz-s3: S3's XML answers to ListObjectsV2 and DeleteObjects (an <Error>
 * document in a 200 included), through s3-objects.c's own parsing helpers,
 * which are static: the file is compiled into this harness (and so not
 * taken from libtrain.a).
 */
#include "fuzz.h"

#include "services/s3-objects.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_response res = { 0 };
	struct s3_listed *list = NULL;
	xmlDocPtr doc = NULL;
	size_t nr = 0, i;

	res.status = 200;
	buf_add(&res.body, data, size);
	if (!parse_doc(&doc, &res, "ListObjectsV2")) {
		add_contents(&list, &nr, xml_root(doc));
		for (i = 0; i < nr; i++)
			FUZZ_CHECK(list[i].key, "a listed object without a key");
		(void)delete_errors(xml_root(doc), "bucket");
		free(xml_path_text(xml_root(doc), "NextContinuationToken"));
	}
	err_clear();
	s3_listed_free(list, nr);
	xml_free(doc);
	aws_response_release(&res);
	return 0;
}
