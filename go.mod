module github.com/attnscope/attnscope

go 1.27

require golang.org/x/text v0.44.0
