# Install mcp-workbench (Windows) with uv, then add it to an MCP client.
#
#   powershell -ExecutionPolicy ByPass -c "irm https://raw.githubusercontent.com/mcp-workbench/mcp-workbench/main/install.ps1 | iex"
#   $env:MCP_WORKBENCH_CLIENT = "cursor"; irm https://raw.githubusercontent.com/mcp-workbench/mcp-workbench/main/install.ps1 | iex
#   .\install.ps1 cursor --root "$HOME\projects"     # a saved copy takes the client and its options
#
# uv is installed first if it is missing (https://docs.astral.sh/uv/). The tool is installed
# with compiled bytecode: a client starts it cold, often within a few seconds' window.
#
# Environment (the same as install.sh):
#   MCP_WORKBENCH_PACKAGE          what to install (default: mcp-workbench from PyPI; a version
#                                  such as mcp-workbench==0.1.0, a wheel file, a git URL)
#   MCP_WORKBENCH_CLIENT           a client to add it to, when no argument names one
#   MCP_WORKBENCH_UV_INSTALLER_URL where uv's installer comes from (default: astral.sh)
#   UV_*                           uv's own settings (index, cache, offline, ...) apply

$ErrorActionPreference = 'Stop'
$ClientArgs = @($args)

$Package = if ($env:MCP_WORKBENCH_PACKAGE) { $env:MCP_WORKBENCH_PACKAGE } else { 'mcp-workbench' }
$Installer = if ($env:MCP_WORKBENCH_UV_INSTALLER_URL) { $env:MCP_WORKBENCH_UV_INSTALLER_URL } else { 'https://astral.sh/uv/install.ps1' }

function Say([string]$Message) { [Console]::Error.WriteLine("mcp-workbench: $Message") }

function Find-Uv {
    $found = Get-Command uv -ErrorAction SilentlyContinue
    if ($found) { return $found.Source }
    $candidates = @()
    if ($env:UV_INSTALL_DIR) { $candidates += Join-Path $env:UV_INSTALL_DIR 'uv.exe' }
    if ($env:XDG_BIN_HOME) { $candidates += Join-Path $env:XDG_BIN_HOME 'uv.exe' }
    $candidates += Join-Path $env:USERPROFILE '.local\bin\uv.exe'
    $candidates += Join-Path $env:USERPROFILE '.cargo\bin\uv.exe'
    foreach ($candidate in $candidates) { if (Test-Path $candidate) { return $candidate } }
    return $null
}

$uv = Find-Uv
if (-not $uv) {
    Say "uv is not installed; installing it from $Installer"
    Invoke-RestMethod $Installer | Invoke-Expression
    $uv = Find-Uv
    if (-not $uv) { throw 'uv was installed but cannot be found: open a new terminal and run this again' }
}
Say "using $(& $uv --version) at $uv"

Say "installing $Package"
& $uv tool install --force --compile-bytecode $Package
if ($LASTEXITCODE -ne 0) { throw "uv could not install $Package (see above)" }

$binDir = (& $uv tool dir --bin).Trim()
$workbench = Join-Path $binDir 'mcp-workbench.exe'
if (-not (Test-Path $workbench)) { throw "installed, but $workbench is missing" }
Say "installed: $(& $workbench --version) at $workbench"
if (-not (($env:PATH -split ';') -contains $binDir)) {
    Say "$binDir is not on your PATH: run '$uv tool update-shell' (then open a new terminal) to type just mcp-workbench"
}

if ($ClientArgs.Count -eq 0 -and $env:MCP_WORKBENCH_CLIENT) { $ClientArgs = @($env:MCP_WORKBENCH_CLIENT) }
if ($ClientArgs.Count -gt 0) {
    & $workbench install @ClientArgs
    exit $LASTEXITCODE
}

if ([Environment]::UserInteractive -and -not [Console]::IsInputRedirected) {
    & $workbench install --list
    $client = Read-Host 'Add it to which client? (a name from the list; empty: none)'
    if ($client) {
        & $workbench install $client
        exit $LASTEXITCODE
    }
}
Say "add it to a client with: mcp-workbench install CLIENT   (list them: mcp-workbench install --list)"
