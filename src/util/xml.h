/*
 * xml: reading AWS's XML responses with libxml2 (never with strstr).
 *
 * Elements are matched by local name, whatever their namespace, because
 * S3, EC2, IAM and STS each use their own. Paths are element names joined by
 * '/', relative to the node given: "Errors/Error/Code".
 */
#ifndef UTIL_XML_H
#define UTIL_XML_H

#include <libxml/tree.h>
#include <stddef.h>

/* Parses data without network access or entity expansion. 0, or -1 with err_set. */
int xml_parse(xmlDocPtr *out, const char *data, size_t len);
void xml_free(xmlDocPtr doc);

/* The document's root element; NULL for an empty document. */
xmlNodePtr xml_root(xmlDocPtr doc);
/* The first child element named name; NULL if none. */
xmlNodePtr xml_child(xmlNodePtr parent, const char *name);
/* The next sibling element named name after node; NULL if none. */
xmlNodePtr xml_next(xmlNodePtr node, const char *name);
/* The first element at path below from; NULL if none. */
xmlNodePtr xml_path(xmlNodePtr from, const char *path);
/* The text content of node (caller frees); NULL when node is NULL. */
char *xml_text(xmlNodePtr node);
/* xml_text(xml_path(from, path)). */
char *xml_path_text(xmlNodePtr from, const char *path);

#endif
