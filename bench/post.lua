-- wrk script: send the multipart body in $BODY_FILE (boundary $BOUNDARY)
-- with method $METHOD (default POST).
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = os.getenv("METHOD") or "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. os.getenv("BOUNDARY")
if os.getenv("COOKIE") then wrk.headers["Cookie"] = os.getenv("COOKIE") end
if os.getenv("CSRF") then wrk.headers["X-CSRF-Token"] = os.getenv("CSRF") end
