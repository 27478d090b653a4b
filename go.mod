module github.com/attnscope/attnscope

go 1.27
