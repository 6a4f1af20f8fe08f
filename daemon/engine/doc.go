// Package engine decides which managed rules an event breaks.
//
// Handle takes decoded kernel events in order, from one goroutine. It keeps
// a table of the processes of watched containers (from exec, fork and exit
// events, so each event knows its process's executable, arguments, parent
// and ancestors, whether it entered the container through an exec from
// outside and whether its executable came from the image), resolves the
// event's pod through a Resolver, picks the rules the pod's rulesets
// select (strongest mitigation wins, cached per pod and rules generation,
// indexed by event kind) and evaluates only those rules' conditions.
//
// Processes that have not executed anything since they entered the
// container (the runtime's own init, e.g. runc:[2:INIT], setting the
// container up) are not judged: their mounts and namespace calls are the
// runtime's. Processes that were already running when podguard started are
// read from /proc on first sight.
//
// The engine decides; it does not act. Mitigation and output are the
// caller's.
package engine
