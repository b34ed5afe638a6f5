std = "lua54"
max_line_length = 120
files["spec"] = { std = "+busted" }
files["lua/moonsock/boot.lua"] = { globals = { "coroutine" } }
files["lua/moonsock/popen.lua"] = { globals = { "io", "os" } }
