-- Response filters for the local ingress: tell daprd's own errors apart from the app's, and answer daprd's as
-- problem+json (RFC 9457).
--
-- Every Mercato app renders its errors as application/problem+json, so an error response of any other type came from
-- the sidecar: the app unreachable or restarting, a timeout, a refused token, a request daprd could not forward. Those
-- are rewritten, so no internal address or daprd error code reaches a client. An app's problem+json, 500 included,
-- passes through untouched with its traceId. Success responses only pay for one status comparison.
local M = {}

local retry_after_seconds = '2'

local problems = {
  [400] = { 'validation', 'The request is not valid', 'The request could not be forwarded to the service' },
  [401] = { 'unauthenticated', 'Authentication is required',
            'Send a valid access token from the mercato realm: Authorization: Bearer <token>' },
  [404] = { 'not-found', 'Not found', 'No such resource' },
  [503] = { 'service-unavailable', 'The service is unavailable; try again shortly',
            'The service is starting, restarting or not answering; retry after Retry-After seconds' },
}

local function mapped_status(status)
  if status == 401 or status == 404 then return status end
  if status >= 500 then return 503 end
  return 400
end

local function json_string(text)
  return '"' .. text:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == '\\' then return '\\\\' end
    return string.format('\\u%04x', c:byte())
  end) .. '"'
end

function M.header()
  local status = ngx.status
  if status < 400 then return end
  local content_type = ngx.header.content_type or ''
  if content_type:find('application/problem+json', 1, true) == 1 then return end
  -- The web front end renders its own error pages; daprd never answers in HTML.
  if content_type:find('text/html', 1, true) == 1 then return end
  local mapped = mapped_status(status)
  ngx.ctx.sidecar_error = mapped
  ngx.status = mapped
  ngx.header.content_type = 'application/problem+json'
  ngx.header.content_length = nil
  if mapped == 503 then ngx.header['Retry-After'] = retry_after_seconds end
  if mapped == 401 then ngx.header['WWW-Authenticate'] = 'Bearer realm="mercato"' end
end

function M.body()
  local mapped = ngx.ctx.sidecar_error
  if not mapped then return end
  if not ngx.arg[2] then
    ngx.arg[1] = nil -- daprd's body is dropped whole
    return
  end
  local problem = problems[mapped]
  local fields = {
    '"type":' .. json_string('https://mercato.dev/problems/' .. problem[1]),
    '"title":' .. json_string(problem[2]),
    '"status":' .. mapped,
    '"detail":' .. json_string(problem[3]),
    '"instance":' .. json_string(ngx.var.request_uri),
  }
  local traceparent = ngx.header['traceparent'] or ngx.var.http_traceparent
  local trace_id = traceparent and traceparent:match('^%x%x%-(%x+)%-')
  if trace_id then fields[#fields + 1] = '"traceId":' .. json_string(trace_id) end
  ngx.arg[1] = '{' .. table.concat(fields, ',') .. '}'
end

return M
