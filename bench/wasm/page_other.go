//go:build !js

package main

// inPage: outside a JavaScript host there is no page.
func inPage() bool { return false }

func runPage() { panic("bench: runPage outside a page") }
