"""The computer account this desk runs as, asked of the operating system.

The mapped sign-in (`app.people.staff.sign_in_os_user`) lets a desk PC's own login stand
for a password, so the name must come from the operating system's record of the process,
never from LOGNAME, USER or USERNAME: anyone can set those before starting the desk (and
`getpass.getuser()` reads them first). POSIX asks for the effective user id's account;
Windows asks for the token's account, domain-qualified as Windows shows it
(``CAMPUS\\jdoe``, or ``PCNAME\\jdoe`` for a local account). When the operating system has
no name for the process the answer is "", which no staff account is mapped to.
"""

from __future__ import annotations

import sys

if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    _NAME_SAM_COMPATIBLE = 2  # EXTENDED_NAME_FORMAT: DOMAIN\user
    _ERROR_MORE_DATA = 234

    def _domain_account() -> str:
        """GetUserNameExW(NameSamCompatible): the token's account as DOMAIN\\user."""
        get_name = ctypes.WinDLL("secur32", use_last_error=True).GetUserNameExW
        get_name.argtypes = [ctypes.c_int, wintypes.LPWSTR, ctypes.POINTER(wintypes.ULONG)]
        get_name.restype = wintypes.BOOLEAN
        size = wintypes.ULONG(256)
        for _ in range(2):  # the first call may say how much room the name needs
            buffer = ctypes.create_unicode_buffer(size.value + 1)
            if get_name(_NAME_SAM_COMPATIBLE, buffer, ctypes.byref(size)):
                return buffer.value
            if ctypes.get_last_error() != _ERROR_MORE_DATA:
                break
        return ""

    def _plain_account() -> str:
        """GetUserNameW, qualified with the computer's name: for a PC outside any domain
        where GetUserNameExW is not answered."""
        advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        get_user = advapi32.GetUserNameW
        get_user.argtypes = [wintypes.LPWSTR, ctypes.POINTER(wintypes.DWORD)]
        get_user.restype = wintypes.BOOL
        get_computer = kernel32.GetComputerNameW
        get_computer.argtypes = [wintypes.LPWSTR, ctypes.POINTER(wintypes.DWORD)]
        get_computer.restype = wintypes.BOOL
        user_size, computer_size = wintypes.DWORD(257), wintypes.DWORD(64)
        user = ctypes.create_unicode_buffer(user_size.value)
        computer = ctypes.create_unicode_buffer(computer_size.value)
        if not get_user(user, ctypes.byref(user_size)):
            return ""
        if not get_computer(computer, ctypes.byref(computer_size)):
            return ""
        return f"{computer.value}\\{user.value}"

    def current_os_user() -> str:
        """The Windows account running this process, as DOMAIN\\user ("" if unknown)."""
        return _domain_account() or _plain_account()

else:
    import os
    import pwd

    def current_os_user() -> str:
        """The POSIX account of the effective user id ("" if it has no passwd entry)."""
        try:
            return pwd.getpwuid(os.geteuid()).pw_name
        except KeyError:
            return ""
