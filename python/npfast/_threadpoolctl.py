"""threadpoolctl integration.

On import, npfast registers a threadpoolctl controller (when threadpoolctl is installed), so
``threadpoolctl.threadpool_info()`` lists npfast and ``threadpool_limits(1)`` limits it, as it
does OpenBLAS. The controller finds npfast's extension among the loaded shared libraries by its
file name (``_npfast...so``) and calls the exported C functions ``npfast_get_num_threads`` /
``npfast_set_num_threads``.
"""

from __future__ import annotations


def register() -> None:
    try:
        import threadpoolctl
    except ImportError:
        return
    if not hasattr(threadpoolctl, "register"):  # threadpoolctl < 3.1
        return

    class NpfastController(threadpoolctl.LibController):
        user_api = "npfast"
        internal_api = "npfast"
        filename_prefixes = ("_npfast",)

        def get_num_threads(self):
            return self.dynlib.npfast_get_num_threads()

        def set_num_threads(self, num_threads):
            # Clamped here: ctypes passes the low 32 bits of a larger int to the C int (2**32 + 2
            # set 2 threads), and refuses one past 64 bits; the C side caps at kMaxThreads.
            n = int(num_threads)
            self.dynlib.npfast_set_num_threads(max(1, min(n, 1 << 20)))

        def get_version(self):
            import ctypes

            fn = self.dynlib.npfast_get_version
            fn.restype = ctypes.c_char_p
            return fn().decode()

        def set_additional_attributes(self):
            pass

    threadpoolctl.register(NpfastController)
