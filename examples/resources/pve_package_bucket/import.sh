# Import a bucket by the path of its package file; it is named after the file.
terraform import pve_package_bucket.web packages/web.apt
