package mysql

// Started reports whether Run has connected and started streaming.
func Started(c *Capture) bool { return c.started.Load() }
