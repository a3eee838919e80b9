-- Issue 21: `image_packages` loses its index by package. Every read of an image's packages goes
-- by the image (the image page, the evaluation's denylist check: the primary key's first
-- column); nothing deletes or renumbers a package, so no foreign key check needs it either. It
-- cost every report a page per package: a new image's entries land at the end of each of its
-- packages' ranges, some 80 leaf pages of 4 KB written (and checkpointed) for a report of 100
-- findings (BENCHMARKS.md, session 30).
DROP INDEX IF EXISTS image_packages_package;
