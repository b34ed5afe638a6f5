-- socket.smtp from Debian's lua-socket, unchanged: one message with a
-- header, a dot-stuffed body and two recipients, to smtp_server.py.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local S = require "show"
local smtp = require "socket.smtp"

local msg = smtp.message {
  headers = {from = "<alice@example.org>", to = "<bob@example.org>", subject = "moonsock test"},
  body = "first line\r\n.a line that starts with a dot\r\nlast line\r\n",
}
S.show("send", smtp.send {from = "<alice@example.org>", rcpt = {"<bob@example.org>", "<carol@example.org>"},
  source = msg, server = "127.0.0.1", port = tonumber(arg[1])})
S.show("refused", smtp.send {from = "<a@b>", rcpt = "<c@d>", source = smtp.message {body = "x"},
  server = "127.0.0.1", port = 1})
