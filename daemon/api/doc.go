// Package api is podguard's local control API as both ends see it: the URL
// paths on the daemon's Unix socket, the JSON wire types (`podguard status`,
// `podguard release`) and the client the CLI uses. The daemon serves it.
//
// It must not import github.com/podguard/podguard/daemon or the cli; it
// imports only the leaf packages whose types it carries (events, rulesets,
// tomlfile).
package api
