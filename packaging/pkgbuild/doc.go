// Package pkgbuild writes podguard's node packages from a built static
// binary: a .deb and an .rpm (through nfpm) and a .tar.gz with an
// install.sh. All three install the same files: the binary, the systemd
// unit, /etc/podguard/config.toml and the shipped rulesets as config files
// that upgrades never overwrite, and podguard's state and log directories.
//
// The packaged files come from the repository (Options.Repo): the unit from
// systemd/, the rulesets from rules.d/, the config template and maintainer
// scripts from packaging/.
package pkgbuild
