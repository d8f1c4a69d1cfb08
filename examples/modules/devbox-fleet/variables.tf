variable "node" {
  description = "Proxmox VE node the containers run on."
  type        = string
}

variable "instances" {
  description = "How many containers the fleet has."
  type        = number
  default     = 1

  validation {
    condition     = var.instances >= 0 && floor(var.instances) == var.instances
    error_message = "instances must be a whole number of containers, 0 or more."
  }
}

variable "template_dir" {
  description = "Directory whose subdirectories are template directories (each with a template.conf), as pve_template_discovery reads it."
  type        = string
}

variable "template_name" {
  description = "The template directory, under template_dir, the containers are built from."
  type        = string
  default     = "devbox"
}

variable "name_prefix" {
  description = "Host names are <name_prefix>-1, <name_prefix>-2, …"
  type        = string
  default     = "devbox"
}

variable "tags" {
  description = "Proxmox VE tags of every container."
  type        = list(string)
  default     = ["devbox"]
}
