-- The table of require "socket" (Python's socket module) for LuaSocket's
-- modules: socket.lua hands its table to the installer (set) before any of
-- them loads, so that none of them requires "socket" while socket.lua is
-- loading. Loaded on their own (after socket.lua), get() requires it.
local M = {}
local socket

function M.set(t) socket = t end

function M.get() return socket or require "socket" end

return M
