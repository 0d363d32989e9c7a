"""Packaging for imgcap, driven by settings.ini (nbdev 2 layout), without pkg_resources."""
from configparser import ConfigParser
import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

requirements = cfg.get('requirements', '').split()
# every `<name>_requirements` key is the extra `imgcap[<name>]`: dev (tests), ray, ...
extras = {k[:-len('_requirements')]: cfg[k].split() for k in cfg if k.endswith('_requirements') and k != 'requirements'}
scripts = [s.strip() for s in cfg.get('console_scripts', '').split('\n') if s.strip()]

setuptools.setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    author=cfg['author'],
    author_email=cfg['author_email'],
    license='Apache-2.0',
    keywords=cfg['keywords'],
    python_requires=f">={cfg['min_python']}",
    packages=setuptools.find_packages(include=['imgcap', 'imgcap.*']),
    package_data={'imgcap': ['models/*.safetensors', 'models/*.json', 'static/*']},
    include_package_data=True,
    install_requires=requirements,
    extras_require=extras,
    entry_points={'console_scripts': scripts, 'nbdev': [f"{cfg['lib_name']}={cfg['lib_name']}._modidx:d"]},
    zip_safe=False,
)
