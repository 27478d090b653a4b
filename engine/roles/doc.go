// Package roles scores what attention heads do, from the attention rows a trace holds: how much
// of each query's attention goes to the key a role names (the previous token, the first token,
// the token after an earlier occurrence of the current one, the mirrored position, the matching
// open bracket). A score is a mean probability in [0, 1]; 1 means the head always looks there.
//
// Imports: the standard library and engine/trace.
package roles
