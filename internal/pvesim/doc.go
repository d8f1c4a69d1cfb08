// Package pvesim is a Proxmox VE lookalike: an HTTPS API validated against
// the official schema, with tasks, locks, storage, faults and an SSH node
// that understands pct. Tests, the demo and users' CI pipelines run the
// provider against it when no real Proxmox VE is reachable.
//
// # Starting it
//
// Start runs a simulator from a Config until Close. Go tests use
// pvesimtest.New(t, opts...) instead, which starts one on 127.0.0.1 with
// random ports (SSH nodes included) and closes it when the test ends. From
// the command line:
//
//	terraform-provider-pve simulate [flags]
//
//	--listen ADDR          HTTPS API address (default 127.0.0.1:8006; port 0 = any free port)
//	--ssh-listen ADDR      first node's SSH address (default 127.0.0.1:2222); node i listens
//	                       on port+i, or on free ports when the port is 0
//	--nodes a,b            node names (default pve); the first serves the API
//	--backend NAME         memory (default: runs nothing, needs no root) or lxc (real LXC
//	                       containers on a private bridge, package lxcbackend; root on Linux)
//	--egress               lxc backend: let containers reach beyond their bridge through
//	                       NAT (e.g. the machine's package mirrors); off by default
//	--state-dir DIR        keep CA, server certificate, credentials, SSH host keys and the
//	                       cluster state (state.json: configs, volumes, tasks) across restarts
//	--api-token TOKEN      root@pam's token 'root@pam!name=SECRET' (default generated, or the
//	                       one stored in --state-dir)
//	--root-password PW     root@pam's password for tickets and SSH (default likewise)
//	--fault SPEC           arm a fault (repeatable, syntax below)
//	--request-log FILE     append every API request as a JSON line (RequestRecord)
//	--task-duration D      how long each worker task runs (default 200ms)
//	--ticket-lifetime D    ticket and CSRF token lifetime (default 2h)
//	--auth-failure-delay D delay of 401 answers (default 0; real PVE waits about 3s)
//	--template FILE        pre-install an appliance template on every node's local storage
//
// When ready it prints exactly one JSON line on stdout and logs to stderr:
//
//	{"endpoint":"https://127.0.0.1:8006","api_token":"root@pam!sim=…","username":"root@pam",
//	 "password":"…","ca_cert_file":"/…/ca.pem","tls_fingerprint":"AB:CD:…",
//	 "nodes":[{"name":"pve","ssh_host":"127.0.0.1","ssh_port":2222,"ssh_host_key":"ssh-ed25519 AAAA…"}]}
//
// tls_fingerprint is the SHA-256 of the server (leaf) certificate in PVE's
// colon form; ca_cert_file is the CA that signed it (in --state-dir, or in a
// temporary directory removed at exit). It runs until SIGINT or SIGTERM and
// then exits 0.
//
// # Faults
//
// A fault is a PVE property string, from Go (Faults().Add(Fault{…})) or
// from --fault. Keys: kind, method (GET|POST|PUT|DELETE), path, status,
// message, count (0 = every time), probability (0..1), delay (Go duration),
// type (task type), vmid (task faults). path is relative to /api2/json: a
// glob where "*" matches within one segment and "**" across segments, or a
// Go regexp after "re:"; values cannot contain commas. Kinds:
//
//	status         answer status+message (JSON envelope; empty body for 59x)
//	latency        delay matching requests by delay
//	drop           close the connection without an answer, before the request
//	               is handled (nothing happens)
//	lost-answer    carry the request out in full (a create's config is written
//	               and its task started, a change is made), then close the
//	               connection without an answer
//	broken-pipe    answer "596 Broken pipe" with an empty body
//	lock-timeout   config locks of the request (and its task) fail with
//	               "can't lock file '/run/lock/lxc/pve-config-<vmid>.lock' - got timeout"
//	ticket-expiry  invalidate every ticket before the matching request
//	task-fail      matching tasks end with exitstatus = message (after rolling back)
//	task-slow      matching tasks run delay longer
//	task-warn      matching tasks log "WARN: message" and end "WARNINGS: n"
//
// kind may be left out when status is given (status fault) or only delay
// (latency fault). Examples:
//
//	--fault 'method=GET,path=/nodes/*/lxc/*/status/current,status=502,count=3'
//	--fault 'kind=drop,count=1'
//	--fault 'kind=lost-answer,method=POST,path=/nodes/*/lxc,count=1'
//	--fault 'kind=task-fail,type=vzcreate,message=disk full'
//
// # What is simulated
//
// Requests go through PVE's pipeline: /api2/json prefix (else 501 "no such
// uri"), no body on GET/DELETE, 512 KiB limit, query over body, form or
// JSON bodies, faults, authentication (tickets with CSRF on writes, API
// tokens), routing (501 "Method '…' not implemented"), token restrictions,
// node resolution, schema validation (package pveschema), then the
// handler. Errors carry PVE's texts, with the first message line as HTTP
// reason phrase. Implemented: /version, /access/ticket, /access/permissions,
// /cluster/{nextid,resources,tasks,status}, /storage, /nodes,
// /nodes/{node}[/status], aplinfo GET/POST, lxc list/create, lxc/{vmid}
// GET/DELETE, config GET/PUT, pending, status/{current,start,stop,shutdown,
// reboot}, resize, clone, template, interfaces, query-url-metadata,
// storage download-url and upload, snapshot (list, create,
// delete, rollback with start, index, config GET/PUT, and GET config's
// snapshot parameter), storage list/status/content/volume delete, tasks
// list/status/log/stop. Snapshots are "[name]" sections of the config file
// with snaptime, parent and description, and a "parent" key in the current
// config; the vzsnapshot, vzdelsnapshot and vzrollback tasks hold the locks
// snapshot, snapshot-delete and rollback; only LVM-thin volumes snapshot
// (a dir storage's raw volumes and bind mounts refuse with "snapshot feature
// is not available"); the backend captures and restores the filesystem
// (the lxc backend copies the container's writable layer). Templates:
// POST template renames the volumes to base-<vmid>-disk-<n> and the
// backend freezes the filesystem; a template cannot start; a linked clone
// (the default for a template) is a child volume
// "<storage>:base-<vmid>-disk-<n>/vm-<newid>-disk-<m>" that keeps the
// template from being destroyed ("base volume … is still in use by linked
// clones"); linked clones of containers that are not templates, and of
// dir storage (whose linked clones would be qcow2 images), are refused
// with "Linked clone feature for … is not available", a full clone of a
// running container without a snapshot and a clone to another node
// (every simulated storage is local) with PVE's texts. The
// permission model: root@pam and its token hold every privilege except
// pve-container's root@pam-only changes, which token ids never satisfy.
// Containers run on a backend.Backend: the memory backend by default, or
// real LXC containers with --backend lxc. Each node's SSH server (package
// sshnode) runs pct exec, push, pull, status, list and unlock.
//
// # Downloads and uploads
//
// download-url and query-url-metadata fetch the URL for real, from the
// simulator's machine, so tests serve images from a loopback HTTP(S)
// server (PVE allows loopback URLs too). Nodes trust the system's
// certificate authorities, or Config.DownloadRootCAs; no proxy is used.
// download-url runs a "download" task that logs what wget and
// download_file_from_url print, verifies the checksum (PVE's texts:
// "checksum mismatch: got '…' != expect '…'", ", aborting" for a file
// already there; "refusing to override existing file '…'" without a
// checksum) and stores the file as a vztmpl or iso volume of a
// directory storage; wget's failures become "download failed: <wget's last
// line>" (connection refused, HTTP errors, untrusted certificates).
// query-url-metadata sends a HEAD request and answers filename, size and
// mimetype as PVE does, or "invalid server response: '<status line>'".
// upload takes a multipart body (no CSRF token needed), streams it to
// /var/tmp/pveupload-… on the API node and copies it in an "imgcopy" task,
// overwriting a file of the same name. Not simulated: the import content
// type (refused with a clear error), and decompressing lzo and zst ISO
// downloads (gz and bz2 work). A downloaded or uploaded vztmpl file is
// what a container's rootfs is made from: the memory backend never
// unpacks it; the lxc backend extracts it as the container's root file
// system, so it must be a real root filesystem tarball (a Proxmox VE
// template, or the lxc backend's own cached image), and a container of a
// file that is not boots nothing. A container's ostype comes from the
// file name ("debian-…" → debian, else unmanaged), not from its content.
//
// # Restarts
//
// With --state-dir the state is saved as it changes (volumes as soon as
// they are allocated, a task's log before each of its work steps). A
// simulator killed while tasks run ends them on restart the way PVE shows a
// task whose worker died: stopped, exitstatus "unexpected status", the log
// without a final TASK line. Persistent config locks stay where they were:
// an interrupted create leaves its config with "lock: create" (and its
// volumes allocated) until "pct unlock <vmid>" on the node removes it.
package pvesim
